-- every story id that was merged away, with the id its articles live on under now.
-- merges chain (a into b one night, b into c a later night), so follow them to the end.

with recursive

story_merges as (

    select * from {{ ref('stg_landing__story_merges') }}
    qualify
        row_number() over (partition by merged_story_id order by run_date desc) = 1

),

chain as (

    select
        merged_story_id,
        into_story_id,
        1 as depth

    from story_merges

    union all

    select
        chain.merged_story_id,
        story_merges.into_story_id,
        chain.depth + 1 as depth

    from chain
    inner join story_merges
        on chain.into_story_id = story_merges.merged_story_id
    where chain.depth < 100

),

final as (

    select
        merged_story_id,
        into_story_id as final_story_id,
        depth as merge_depth

    from chain
    qualify row_number() over (partition by merged_story_id order by depth desc) = 1

)

select * from final
