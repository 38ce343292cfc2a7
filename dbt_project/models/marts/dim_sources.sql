with

sources as (

    select * from {{ ref('int_sources_latest') }}

),

articles as (

    select * from {{ ref('int_articles_deduplicated') }}

),

fetches as (

    select * from {{ ref('stg_landing__fetches') }}

),

article_stats as (

    select
        source_id,
        count(*) as article_count,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at

    from articles
    group by source_id

),

fetch_stats as (

    select
        source_id,
        count(*) as fetch_count,
        count_if(outcome = 'ok') as ok_fetch_count,
        max(fetched_at) filter (where outcome = 'ok') as last_success_at

    from fetches
    group by source_id

),

final as (

    select
        sources.source_id,
        sources.name,
        sources.domain,
        coalesce(article_stats.article_count, 0) as article_count,
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
