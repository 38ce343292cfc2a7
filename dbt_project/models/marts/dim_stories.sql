with

articles as (

    select * from {{ ref('int_articles_clustered') }}

),

story_stats as (

    select
        story_id,
        min(published_at) as first_published_at,
        max(published_at) as last_published_at,
        count(*) as article_count,
        count(distinct source_id) as source_count,
        list_sort(list_distinct(list(language))) as languages

    from articles
    group by story_id

),

representatives as (

    select
        story_id,
        article_id as origin_article_id,
        source_id as origin_source_id,
        title as headline

    from articles
    where is_story_origin

),

final as (

    select
        story_stats.story_id,
        representatives.headline,
        story_stats.first_published_at,
        story_stats.last_published_at,
        story_stats.article_count,
        story_stats.source_count,
        representatives.origin_article_id,
        representatives.origin_source_id,
        story_stats.languages

    from story_stats
    left join representatives
        on story_stats.story_id = representatives.story_id

)

select * from final
