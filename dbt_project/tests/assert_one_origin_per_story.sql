-- every story has exactly one origin article

with

stories as (

    select
        story_id,
        count_if(is_story_origin) as n_origins

    from {{ ref('int_articles_clustered') }}
    group by story_id

)

select * from stories
where n_origins != 1
