-- incremental: the landing partitions of the lookback window replace their rows whole
-- (a re-run night's fetch ids can differ), older nights stay as they were.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='fetch_id',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_incremental_scope('run_date', 'window', 'run_date') }}"
    )
}}

{%- set since = incremental_since('run_date') %}

with

fetches as (

    select * from {{ ref('stg_landing__fetches') }}
    where {{ in_window('run_date', since) }}

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
