with

mentions as (

    select * from {{ ref('int_entity_mentions_latest') }}

),

final as (

    select
        article_id || ':' || entity_id as entity_mention_id,
        article_id,
        entity_id,
        mention_count,
        first_char_offset,
        surface_forms,
        in_title,
        in_dateline

    from mentions

)

select * from final
