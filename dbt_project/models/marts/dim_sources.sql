with

sources as (

    select * from {{ ref('int_sources_latest') }}

),

articles as (

    select * from {{ ref('int_articles_clustered') }}

),

fetches as (

    select * from {{ ref('stg_landing__fetches') }}

),

article_stats as (

    select
        source_id,
        count(*) as article_count,
        cast(count_if(not is_derivative) as bigint) as original_article_count,
        cast(count_if(is_derivative) as bigint) as derivative_article_count,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at

    from articles
    group by source_id

),

-- fetch health counts real requests only: rows for URLs skipped without one
-- (duplicate_url, already_fetched, robots_disallowed) and the source rows (over_limit,
-- source_failed) have attempts = 0.
-- a fetch succeeded when the server delivered, whether or not the page was an article.
fetch_attempts as (

    select
        *,
        outcome in (
            'ok', 'not_modified', 'not_html', 'extraction_empty', 'extraction_error'
        ) as is_success

    from fetches
    where attempts > 0

),

fetch_stats as (

    select
        source_id,
        count(*) as fetch_count,
        count_if(is_success) as ok_fetch_count,
        max(fetched_at) filter (where is_success) as last_success_at

    from fetch_attempts
    group by source_id

),

final as (

    select
        sources.source_id,
        sources.name,
        sources.domain,
        coalesce(article_stats.article_count, 0) as article_count,
        coalesce(article_stats.original_article_count, 0) as original_article_count,
        coalesce(article_stats.derivative_article_count, 0) as derivative_article_count,
        cast(article_stats.original_article_count as double)
        / nullif(article_stats.article_count, 0) as originality_ratio,
        article_stats.first_seen_at,
        article_stats.last_seen_at,
        coalesce(fetch_stats.fetch_count, 0) as fetch_count,
        cast(fetch_stats.ok_fetch_count as double)
        / nullif(fetch_stats.fetch_count, 0) as fetch_success_rate,
        fetch_stats.last_success_at

    from sources
    left join article_stats
        on sources.source_id = article_stats.source_id
    left join fetch_stats
        on sources.source_id = fetch_stats.source_id

)

select * from final
