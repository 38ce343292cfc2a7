with

source as (

    select * from {{ source('landing', 'article_entities') }}

),

renamed as (

    select
        -- ids
        cast(article_id as varchar) as article_id,

        -- partition
        cast(run_date as date) as run_date,

        -- attributes
        cast(ner_status as varchar) as ner_status,
        cast(ner_model as varchar) as ner_model,
        cast(entity_count as integer) as entity_count,
        cast(mention_count as integer) as mention_count,
        cast(ner_error as varchar) as ner_error

    from source

)

select * from renamed
