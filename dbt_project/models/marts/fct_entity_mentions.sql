-- incremental: the mentions of every article whose resolution a night in the lookback
-- window can have changed (macros/incremental_scope.sql).
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='entity_mention_id',
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
-- depends_on: {{ ref('int_articles_clustered') }}

{%- set since = incremental_since('run_date') %}

with

{% if since is not none -%}
{{ incremental_scope_ctes(since) }}
{%- endif %}

mentions as (

    select * from {{ ref('int_entity_mentions_resolved') }}
    {%- if since is not none %}
    where article_id in (select article_id from scope_mention_articles)
    {%- endif %}

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
        bool_or(in_dateline) as in_dateline,
        max(run_date) as run_date

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
        -- distinct spellings, in order of appearance (sqlfluff's duckdb dialect does not
        -- parse DuckDB's `lambda x:` syntax; the arrow form it parses is deprecated)
        list_filter(all_forms, lambda form, i: list_position(all_forms, form) = i) -- noqa: PRS
            as surface_forms,
        in_title,
        in_dateline,
        run_date

    from merged

)

select * from final
