with

fetches as (

    select * from {{ ref('stg_landing__fetches') }}

),

final as (

    select
        fetch_id,
        url,
        final_url,
        url_kind,
        source_id,
        run_date,
        outcome,
        http_status,
        error,
        content_type,
        bytes,
        elapsed_ms,
        attempts,
        fetched_at,
        listed_at,
        body_sha256,
        listed_title,
        listed_modified_at

    from fetches

)

select * from final
