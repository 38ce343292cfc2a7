-- placeholder story clustering: exact duplicates only. articles whose content_hash is
-- equal share a story. the representative of a story is its earliest published
-- article (unknown publication time last), ties broken by article_id.

with

articles as (

    select * from {{ ref('int_articles_deduplicated') }}

),

with_story as (

    select
        *,
        -- a missing content_hash (not expected per the landing contract) makes the
        -- article a story of its own rather than producing a null story_id
        left(
            md5('story:' || coalesce(content_hash, 'article:' || article_id)), 16
        ) as story_id

    from articles

),

ranked as (

    select
        *,
        row_number() over (
            partition by story_id
            order by published_at asc nulls last, article_id asc
        ) = 1 as is_story_representative

    from with_story

)

select * from ranked
