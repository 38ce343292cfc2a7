with

source as (

    select * from {{ source('landing', 'sources') }}

),

renamed as (

    select
        -- ids
        cast(source_id as varchar) as source_id,

        -- partition
        cast(run_date as date) as run_date,

        -- attributes
        cast(name as varchar) as name,
        cast(home_url as varchar) as home_url,
        cast(domain as varchar) as domain,

        -- numerics
        cast(feed_count as integer) as feed_count,
        cast(sitemap_count as integer) as sitemap_count,
        cast(url_count as integer) as url_count,
        cast(file_pattern_count as integer) as file_pattern_count

    from source

)

select * from renamed
