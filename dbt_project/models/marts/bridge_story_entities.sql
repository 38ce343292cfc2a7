with

mentions as (

    select * from {{ ref('fct_entity_mentions') }}

),

articles as (

    select * from {{ ref('fct_articles') }}

),

story_mentions as (

    select
        articles.story_id,
        mentions.entity_id,
        count(distinct mentions.article_id) as article_count,
        cast(sum(mentions.mention_count) as bigint) as mention_count

    from mentions
    inner join articles on mentions.article_id = articles.article_id
    group by articles.story_id, mentions.entity_id

),

final as (

    select
        story_id || ':' || entity_id as story_entity_id,
        story_id,
        entity_id,
        article_count,
        mention_count,
        mention_count / sum(mention_count) over (partition by story_id) as salience

    from story_mentions

)

select * from final
