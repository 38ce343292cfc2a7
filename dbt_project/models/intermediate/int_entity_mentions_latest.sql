-- one row per article x entity, from the latest night that analysed the article.

with

latest as (

    select * from {{ ref('int_article_entities_latest') }}

),

mentions as (

    select * from {{ ref('stg_landing__entity_mentions') }}

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
