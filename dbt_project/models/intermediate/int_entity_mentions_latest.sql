-- one row per article x entity, from the latest night that analysed the article (an
-- article landed again is analysed again, and its older rows no longer count).

with

analysed as (

    select * from {{ ref('stg_landing__article_entities') }}

),

mentions as (

    select * from {{ ref('stg_landing__entity_mentions') }}

),

latest as (

    select article_id, run_date
    from analysed
    qualify
        row_number() over (
            partition by article_id
            order by run_date desc
        ) = 1

),

final as (

    select mentions.*
    from mentions
    inner join latest
        on
            mentions.article_id = latest.article_id
            and mentions.run_date = latest.run_date

)

select * from final
