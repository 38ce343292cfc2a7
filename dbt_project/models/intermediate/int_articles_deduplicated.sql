-- one row per article_id: the latest version (by run_date, then fetched_at), carrying
-- when the article was first and last observed across all of its versions.

with

articles as (

    select * from {{ ref('stg_landing__articles') }}

),

versions as (

    select
        *,
        min(fetched_at) over (partition by article_id) as first_seen_at,
        max(fetched_at) over (partition by article_id) as last_seen_at,
        count(*) over (partition by article_id) as version_count

    from articles

),

latest as (

    select * from versions
    qualify
        row_number() over (
            partition by article_id
            order by run_date desc, fetched_at desc, fetch_id desc nulls last
        ) = 1

)

select * from latest
