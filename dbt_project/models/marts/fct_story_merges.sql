-- one row per story id merged into an older story: which, when, into what (and the id
-- it lives on as now, after any later merges).

with

merges as (

    select * from {{ ref('stg_landing__story_merges') }}
    qualify
        row_number() over (partition by merged_story_id order by run_date desc) = 1

),

resolved as (

    select * from {{ ref('int_story_merges_resolved') }}

),

final as (

    select
        merges.merged_story_id,
        merges.into_story_id,
        resolved.final_story_id,
        merges.run_date as merged_on,
        merges.similarity

    from merges
    inner join resolved
        on merges.merged_story_id = resolved.merged_story_id

)

select * from final
