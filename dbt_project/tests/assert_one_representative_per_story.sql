-- every story has exactly one representative article

with

stories as (

    select
        story_id,
        count_if(is_story_representative) as n_representatives

    from {{ ref('int_articles_clustered') }}
    group by story_id

)

select * from stories
where n_representatives != 1
