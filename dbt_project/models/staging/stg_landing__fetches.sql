with

source as (

    select * from {{ source('landing', 'fetches') }}

),

renamed as (

    select
        -- ids
        cast(fetch_id as varchar) as fetch_id,
        cast(source_id as varchar) as source_id,

        -- partition
        cast(run_date as date) as run_date,

        -- attributes
        cast(url as varchar) as url,
        cast(final_url as varchar) as final_url,
        cast(url_kind as varchar) as url_kind,
        cast(outcome as varchar) as outcome,
        cast(http_status as integer) as http_status,
        cast(error as varchar) as error,
        cast(content_type as varchar) as content_type,
        cast(body_sha256 as varchar) as body_sha256,
        cast(listed_title as varchar) as listed_title,

        -- numerics
        cast(bytes as bigint) as bytes,
        cast(elapsed_ms as integer) as elapsed_ms,
        cast(attempts as integer) as attempts,

        -- timestamps (utc)
        cast(fetched_at as timestamptz) as fetched_at,
        cast(listed_at as timestamptz) as listed_at,
        cast(listed_modified_at as timestamptz) as listed_modified_at

    from source

)

select * from renamed
