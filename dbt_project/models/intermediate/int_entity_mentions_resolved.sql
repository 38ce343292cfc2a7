-- one row per article x entity, after resolving partial names across the articles of one
-- story: a bare "Garba Saidou" (tagged PERSON) in one article is the "Insa Garba Saidou"
-- another article of the same story names in full, when that is the one longer name in
-- the story it ends (names nested in one another count as one: the longest wins).
-- Only within a story: there, the same event makes the same person near certain.
-- An abbreviation is resolved across all articles: "AP" (a dateline's agency, say) is the
-- "Associated Press" when the one entity any article tied "AP" to as a spelling is that.

with

mentions as (

    select * from {{ ref('int_entity_mentions_latest') }}

),

articles as (

    select * from {{ ref('int_articles_clustered') }}

),

-- each mention with the story its article is in (read once, used twice below)
storied as (

    select
        mentions.*,
        articles.story_id

    from mentions
    inner join articles on mentions.article_id = articles.article_id

),

named as (

    select
        entity_id,
        name,
        entity_type,
        story_id,
        substr(entity_key, 6) as folded

    from storied
    where entity_key like 'name:%'

),

story_names as (

    select
        story_id,
        entity_id,
        folded,
        arg_max(name, length(name)) as name,
        bool_or(entity_type = 'PERSON') as is_person

    from named
    group by story_id, entity_id, folded

),

candidates as (

    select
        short.story_id,
        short.entity_id as short_id,
        long.entity_id as long_id,
        long.folded as long_folded,
        long.name as long_name

    from story_names as short
    inner join story_names as long
        on
            short.story_id = long.story_id
            and ends_with(long.folded, ' ' || short.folded)
    where short.is_person

),

longest as (

    select
        story_id,
        short_id,
        arg_max(long_id, length(long_folded)) as long_id,
        arg_max(long_name, length(long_folded)) as long_name,
        arg_max(long_folded, length(long_folded)) as long_folded

    from candidates
    group by story_id, short_id

),

-- every candidate must be nested in the longest, else two people share the part
unambiguous as (

    select
        longest.story_id,
        longest.short_id,
        longest.long_id,
        longest.long_name

    from longest
    inner join candidates
        on
            longest.story_id = candidates.story_id
            and longest.short_id = candidates.short_id
    group by longest.story_id, longest.short_id, longest.long_id, longest.long_name
    having
        bool_and(
            candidates.long_folded = longest.long_folded
            or ends_with(longest.long_folded, ' ' || candidates.long_folded)
        )

),

-- spellings like "AP" or "U.N." an article tied to a longer-named entity
abbreviations as (

    select distinct
        mentions.entity_id,
        mentions.name,
        upper(replace(forms.form, '.', '')) as abbreviation

    from mentions,
        unnest(mentions.surface_forms) as forms (form)
    where
        regexp_full_match(forms.form, '[A-Z][A-Z.&]{1,9}')
        and upper(replace(mentions.name, '.', '')) != upper(replace(forms.form, '.', ''))

),

abbreviation_targets as (

    select
        abbreviation,
        min(entity_id) as target_id,
        arg_max(name, length(name)) as target_name

    from abbreviations
    group by abbreviation
    having count(distinct entity_id) = 1

),

-- entities that are nothing but an abbreviation
abbreviated as (

    select distinct
        mentions.entity_id,
        abbreviation_targets.target_id,
        abbreviation_targets.target_name

    from mentions
    inner join abbreviation_targets
        on upper(replace(mentions.name, '.', '')) = abbreviation_targets.abbreviation
    where
        mentions.entity_key like 'name:%'
        and regexp_full_match(mentions.name, '[A-Z][A-Z.&]{1,9}')
        and mentions.entity_id != abbreviation_targets.target_id

),

final as (

    select
        storied.article_id,
        storied.run_date,
        coalesce(unambiguous.long_id, abbreviated.target_id, storied.entity_id) as entity_id,
        storied.entity_id as mentioned_entity_id,
        coalesce(unambiguous.long_name, abbreviated.target_name, storied.name) as name,
        storied.entity_type,
        storied.mention_count,
        storied.first_char_offset,
        storied.surface_forms,
        storied.in_title,
        storied.in_dateline,
        storied.country_code,
        storied.latitude,
        storied.longitude,
        storied.geonameid

    from storied
    left join unambiguous
        on
            storied.story_id = unambiguous.story_id
            and storied.entity_id = unambiguous.short_id
    left join abbreviated on storied.entity_id = abbreviated.entity_id

)

select * from final
