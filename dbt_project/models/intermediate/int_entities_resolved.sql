-- one row per entity_id, with what all its mentions say (partial names resolved within
-- stories included): a gazetteer place is a PLACE whatever one sentence's tagger said;
-- any other entity takes the type with most mentions across articles (ties: PERSON, then
-- ORG, then alphabetical), and the spelling used most.

with

mentions as (

    select * from {{ ref('int_entity_mentions_resolved') }}

),

type_votes as (

    select
        entity_id,
        entity_type,
        sum(mention_count) as votes

    from mentions
    group by entity_id, entity_type

),

voted_types as (

    select
        entity_id,
        entity_type as voted_type

    from type_votes
    qualify
        row_number() over (
            partition by entity_id
            order by
                votes desc,
                -- a tie between a person and anything else goes to the person (the full
                -- name of a partial one, tagged ORG once), then organisations
                case entity_type when 'PERSON' then 0 when 'ORG' then 1 else 2 end,
                entity_type asc
        ) = 1

),

name_votes as (

    select
        entity_id,
        name,
        sum(mention_count) as votes

    from mentions
    group by entity_id, name

),

names as (

    select
        entity_id,
        name

    from name_votes
    qualify
        row_number() over (
            partition by entity_id
            order by votes desc, name asc
        ) = 1

),

surface_forms as (

    select
        entity_id,
        list_sort(list_distinct(flatten(list(surface_forms)))) as aliases,
        max(geonameid) as geonameid,
        max(country_code) as country_code,
        max(latitude) as latitude,
        max(longitude) as longitude

    from mentions
    group by entity_id

),

final as (

    select
        names.entity_id,
        names.name,
        case
            when surface_forms.geonameid is not null then 'PLACE'
            else voted_types.voted_type
        end as entity_type,
        surface_forms.aliases,
        surface_forms.country_code,
        surface_forms.latitude,
        surface_forms.longitude,
        surface_forms.geonameid

    from names
    inner join voted_types on names.entity_id = voted_types.entity_id
    inner join surface_forms on names.entity_id = surface_forms.entity_id

)

select * from final
