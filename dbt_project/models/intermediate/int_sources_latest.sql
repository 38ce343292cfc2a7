-- one row per source_id: the source as described by the latest run that saw it.
-- sources dropped from sources.yml keep their last known description.

with

sources as (

    select * from {{ ref('stg_landing__sources') }}

),

latest as (

    select * from sources
    qualify
        row_number() over (
            partition by source_id
            order by run_date desc
        ) = 1

)

select * from latest
