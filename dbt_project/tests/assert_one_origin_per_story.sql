-- every story has exactly one origin article
-- (read from fct_articles, which holds every article of int_articles_clustered as it is
-- now: the view would cluster the whole history again for this test; the table is
-- grouped in milliseconds, so a night tests every story whole, merges included)

with

stories as (

    select
        story_id,
        count_if(is_story_origin) as n_origins

    from {{ ref('fct_articles') }}
    group by story_id

)

select * from stories
where n_origins != 1
