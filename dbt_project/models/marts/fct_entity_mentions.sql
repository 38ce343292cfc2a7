with

mentions as (

    select * from {{ ref('int_entity_mentions_resolved') }}

),

-- a partial name resolved to the story's full name folds into the full name's row
merged as (

    select
        article_id,
        entity_id,
        cast(sum(mention_count) as integer) as mention_count,
        min(first_char_offset) as first_char_offset,
        flatten(list(surface_forms order by first_char_offset nulls first)) as all_forms,
        bool_or(in_title) as in_title,
        bool_or(in_dateline) as in_dateline

    from mentions
    group by article_id, entity_id

),

final as (

    select
        article_id || ':' || entity_id as entity_mention_id,
        article_id,
        entity_id,
        mention_count,
        first_char_offset,
        -- distinct spellings, in order of appearance
        list_filter(all_forms, lambda form, i: list_position(all_forms, form) = i)
            as surface_forms,
        in_title,
        in_dateline

    from merged

)

select * from final
