-- one row per article: the latest night the entity stage analysed it (an article landed
-- again is analysed again, and only its latest analysis counts).

with

analysed as (

    select * from {{ ref('stg_landing__article_entities') }}

),

latest as (

    select * from analysed
    qualify
        row_number() over (
            partition by article_id
            order by run_date desc
        ) = 1

)

select * from latest
