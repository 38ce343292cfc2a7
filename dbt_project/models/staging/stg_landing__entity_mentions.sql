with

source as (

    select * from {{ source('landing', 'entity_mentions') }}

),

renamed as (

    select
        -- ids
        cast(article_id as varchar) as article_id,
        cast(entity_id as varchar) as entity_id,
        cast(entity_key as varchar) as entity_key,
        cast(geonameid as bigint) as geonameid,

        -- partition
        cast(run_date as date) as run_date,

        -- attributes
        cast(name as varchar) as name,
        cast(entity_type as varchar) as entity_type,
        cast(mention_count as integer) as mention_count,
        cast(first_char_offset as integer) as first_char_offset,
        cast(surface_forms as varchar[]) as surface_forms,
        cast(in_title as boolean) as in_title,
        cast(in_dateline as boolean) as in_dateline,
        cast(country_code as varchar) as country_code,
        cast(latitude as double) as latitude,
        cast(longitude as double) as longitude

    from source

)

select * from renamed
