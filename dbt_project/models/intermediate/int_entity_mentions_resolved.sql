-- one row per article x entity, after resolving partial names across the articles of one
-- story: a bare "Garba Saidou" (tagged PERSON) in one article is the "Insa Garba Saidou"
-- another article of the same story names in full, when that is the one longer name in
-- the story it ends (names nested in one another count as one: the longest wins).
-- Only within a story: there, the same event makes the same person near certain.
-- An abbreviation is resolved across all articles: "AP" (a dateline's agency, say) is the
-- "Associated Press" when the one entity any article tied "AP" to as a spelling is that.
--
-- incremental: the mentions of every article whose resolution a night in the lookback
-- window can have changed (macros/incremental_scope.sql, the scope fct_entity_mentions
-- reads), each resolved against every article of its story. Rebuilt whole, it was 4.5 s
-- of the 12 s `dbt run` on bench-night's 100,000 articles and the stage's largest growth
-- with history (0.9 s on an empty warehouse; bench/README.md, "dbt stage on the history").
-- unique_key article_id: every row of an article is rewritten together.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='article_id',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_incremental_scope('article_id', 'scope_mention_articles', 'run_date', live=ref('stg_landing__articles')) }}"
    )
}}

-- depends_on: {{ ref('stg_landing__articles') }}
-- depends_on: {{ ref('stg_landing__article_stories') }}
-- depends_on: {{ ref('stg_landing__article_entities') }}
-- depends_on: {{ ref('stg_landing__entity_mentions') }}
-- depends_on: {{ ref('stg_landing__story_merges') }}
-- depends_on: {{ ref('int_story_merges_resolved') }}

{%- set since = incremental_since('run_date') %}

with

{% if since is not none -%}
{{ incremental_scope_ctes(since) }}
{%- endif %}

mentions as (

    select * from {{ ref('int_entity_mentions_latest') }}

),

articles as (

    select * from {{ ref('int_articles_clustered') }}
    {%- if since is not none %}
    -- every article of a story in scope: a partial name resolves against all of them
    where story_id in (select story_id from scope_mention_stories)
    {%- endif %}

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
        bool_or(entity_type = 'PERSON') as is_person,
        -- a name ending another ends in its last word: the join key below, so the story's
        -- names are not paired all with all (14.6 million pairs on bench-night's history)
        string_split(folded, ' ')[-1] as last_word

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
            and short.last_word = long.last_word
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
        -- the usual mention, spelt only as its name, holds no abbreviation: skip it before
        -- the regular expression (98.9% of the 938,000 mentions of bench-night's history)
        not (len(mentions.surface_forms) = 1 and mentions.surface_forms[1] = mentions.name)
        and regexp_full_match(forms.form, '[A-Z][A-Z.&]{1,9}')
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
    {%- if since is not none %}
    where storied.article_id in (select article_id from scope_mention_articles)
    {%- endif %}

)

select * from final
