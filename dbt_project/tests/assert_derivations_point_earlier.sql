-- a rewrite or copy points at another article of the same story, and never at itself
-- (read from fct_articles, every article of int_articles_clustered as it is now, whole:
-- an old article moved to another story by a merge keeps its old last_run_date)

with

articles as (

    select * from {{ ref('fct_articles') }}

),

links as (

    select
        derived.article_id,
        derived.story_id,
        derived.derived_from_article_id,
        source.story_id as source_story_id

    from articles as derived
    left join articles as source
        on derived.derived_from_article_id = source.article_id
    where derived.derived_from_article_id is not null

)

select * from links
where
    derived_from_article_id = article_id
    or source_story_id is distinct from story_id
