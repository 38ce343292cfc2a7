with

source as (

    select * from {{ source('landing', 'story_merges') }}

),

renamed as (

    select
        -- ids
        cast(merged_story_id as varchar) as merged_story_id,
        cast(into_story_id as varchar) as into_story_id,

        -- partition
        cast(run_date as date) as run_date,

        -- attributes
        cast(similarity as double) as similarity

    from source

)

select * from renamed
