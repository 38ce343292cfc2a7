with

source as (

    select * from {{ source('landing', 'source_boilerplate') }}

),

renamed as (

    select
        -- ids
        left(md5(cast(source_id as varchar) || ':' || cast(paragraph_key as varchar)), 16)
            as boilerplate_id,
        cast(source_id as varchar) as source_id,
        cast(paragraph_key as varchar) as paragraph_key,

        -- partition
        cast(run_date as date) as run_date,

        -- attributes
        cast(example as varchar) as example,
        cast(page_count as integer) as page_count,
        cast(share as double) as share,
        cast(first_seen_run_date as date) as first_seen_run_date,
        cast(last_seen_run_date as date) as last_seen_run_date

    from source

)

select * from renamed
