-- one row per story id merged into an older story: which, when, into what (and the id
-- it lives on as now, after any later merges).

with

story_merges as (

    select * from {{ ref('stg_landing__story_merges') }}
    qualify
        row_number() over (partition by merged_story_id order by run_date desc) = 1

),

resolved as (

    select * from {{ ref('int_story_merges_resolved') }}

),

final as (

    select
        story_merges.merged_story_id,
        story_merges.into_story_id,
        resolved.final_story_id,
        story_merges.run_date as merged_on,
        story_merges.similarity

    from story_merges
    inner join resolved
        on story_merges.merged_story_id = resolved.merged_story_id

)

select * from final
