with

source as (

    select * from {{ source('landing', 'article_stories') }}

),

renamed as (

    select
        -- ids
        cast(article_id as varchar) as article_id,
        cast(story_id as varchar) as story_id,
        cast(duplicate_of_article_id as varchar) as duplicate_of_article_id,
        cast(derived_from_article_id as varchar) as derived_from_article_id,

        -- partition
        cast(run_date as date) as run_date,

        -- scores
        cast(duplicate_score as double) as duplicate_score,
        cast(derivation_score as double) as derivation_score,
        cast(story_similarity as double) as story_similarity

    from source

)

select * from renamed
