-- the boilerplate each source is stripped of now: its most recent night's learned set

with

boilerplate as (

    select * from {{ ref('stg_landing__source_boilerplate') }}

),

latest_night as (

    select
        source_id,
        max(run_date) as run_date

    from boilerplate
    group by source_id

),

final as (

    select
        boilerplate.boilerplate_id,
        boilerplate.source_id,
        boilerplate.paragraph_key,
        boilerplate.example,
        boilerplate.page_count,
        boilerplate.share,
        boilerplate.first_seen_run_date,
        boilerplate.last_seen_run_date,
        boilerplate.run_date as learned_run_date

    from boilerplate
    inner join latest_night
        on
            boilerplate.source_id = latest_night.source_id
            and boilerplate.run_date = latest_night.run_date

)

select * from final
