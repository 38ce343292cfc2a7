-- incremental: every story a night in the lookback window touched, merged-away ids
-- included (their rows go); macros/incremental_scope.sql.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='story_id',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_incremental_scope('story_id', 'scope_stories', 'last_run_date') }}"
    )
}}

-- depends_on: {{ ref('stg_landing__articles') }}
-- depends_on: {{ ref('stg_landing__article_stories') }}
-- depends_on: {{ ref('stg_landing__article_entities') }}
-- depends_on: {{ ref('stg_landing__entity_mentions') }}
-- depends_on: {{ ref('stg_landing__story_merges') }}
-- depends_on: {{ ref('int_story_merges_resolved') }}

{%- set since = incremental_since('last_run_date') %}

with

{% if since is not none -%}
{{ incremental_scope_ctes(since) }}
{%- endif %}

articles as (

    select * from {{ ref('int_articles_clustered') }}
    {%- if since is not none %}
    where story_id in (select story_id from scope_stories)
    {%- endif %}

),

story_stats as (

    select
        story_id,
        min(published_at) as first_published_at,
        max(published_at) as last_published_at,
        count(*) as article_count,
        count(distinct source_id) as source_count,
        list_sort(list_distinct(list(language))) as languages,
        max(run_date) as last_run_date

    from articles
    group by story_id

),

representatives as (

    select
        story_id,
        article_id as origin_article_id,
        source_id as origin_source_id,
        title as headline

    from articles
    where is_story_origin

),

final as (

    select
        story_stats.story_id,
        representatives.headline,
        story_stats.first_published_at,
        story_stats.last_published_at,
        story_stats.article_count,
        story_stats.source_count,
        representatives.origin_article_id,
        representatives.origin_source_id,
        story_stats.languages,
        story_stats.last_run_date

    from story_stats
    left join representatives
        on story_stats.story_id = representatives.story_id

)

select * from final
