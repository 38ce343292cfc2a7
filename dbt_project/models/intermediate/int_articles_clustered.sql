-- int_articles_deduplicated plus its story, copy and derivation links from the story
-- stage (landing.article_stories), with story ids followed through later merges.
-- the story origin is the earliest substantive report that is neither a copy nor a
-- rewrite: substantive articles first, then publication time (first observation when
-- unknown), then article_id.

with

articles as (

    select * from {{ ref('int_articles_deduplicated') }}

),

assignments as (

    -- an article is assigned on the first night it was landed; a later night that
    -- re-clusters its neighbourhood may move it (a new row): the latest row holds
    select * from {{ ref('stg_landing__article_stories') }}
    qualify row_number() over (partition by article_id order by run_date desc) = 1

),

story_merges as (

    select * from {{ ref('int_story_merges_resolved') }}

),

joined as (

    select
        articles.*,
        -- an article the story stage has not seen (a warehouse loaded without it) is a
        -- story of its own, with the id the stage would give it
        coalesce(
            story_merges.final_story_id,
            assignments.story_id,
            'st_' || left(sha256('story:' || articles.article_id), 16)
        ) as story_id,
        assignments.duplicate_of_article_id,
        assignments.duplicate_score,
        assignments.derived_from_article_id,
        assignments.derivation_score,
        assignments.story_similarity,
        (
            assignments.duplicate_of_article_id is not null
            or assignments.derived_from_article_id is not null
        ) as is_derivative,
        coalesce(articles.published_at, articles.first_seen_at) as story_time

    from articles
    left join assignments
        on articles.article_id = assignments.article_id
    left join story_merges
        on assignments.story_id = story_merges.merged_story_id

),

ranked as (

    select
        *,
        row_number() over (
            partition by story_id
            order by
                is_derivative asc,
                (too_short or probably_not_article) asc nulls last,
                story_time asc nulls last,
                article_id asc
        ) = 1 as is_story_origin

    from joined

)

select * from ranked
