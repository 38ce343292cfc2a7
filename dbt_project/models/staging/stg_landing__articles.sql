with

source as (

    select * from {{ source('landing', 'articles') }}

),

renamed as (

    select
        -- ids
        cast(article_id as varchar) as article_id,
        cast(source_id as varchar) as source_id,
        cast(fetch_id as varchar) as fetch_id,

        -- partition
        cast(run_date as date) as run_date,

        -- attributes
        cast(url as varchar) as url,
        cast(canonical_url as varchar) as canonical_url,
        cast(title as varchar) as title,
        cast(authors as varchar[]) as authors,
        cast(description as varchar) as description,
        cast(site_name as varchar) as site_name,
        cast(language as varchar) as language,
        cast(body as varchar) as body,
        cast(content_hash as varchar) as content_hash,
        cast(dateline as varchar) as dateline,
        cast(credits as varchar) as credits,
        cast(dateline_agency as varchar) as dateline_agency,
        cast(extraction_path as varchar) as extraction_path,

        -- quality flags
        coalesce(cast(too_short as boolean), false) as too_short,
        coalesce(cast(probably_not_article as boolean), false) as probably_not_article,
        coalesce(cast(paywalled as boolean), false) as paywalled,

        -- numerics
        cast(word_count as integer) as word_count,
        cast(language_confidence as double) as language_confidence,
        cast(published_utc_offset as integer) as published_utc_offset,

        -- dates (as the page states them)
        cast(published_local_date as date) as published_local_date,

        -- timestamps (utc)
        cast(published_at as timestamptz) as published_at,
        cast(fetched_at as timestamptz) as fetched_at,
        cast(listed_at as timestamptz) as listed_at,
        cast(modified_at as timestamptz) as modified_at

    from source

)

select * from renamed
