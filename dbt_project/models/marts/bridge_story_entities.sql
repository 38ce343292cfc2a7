-- incremental: every story whose articles' resolved mentions a night in the lookback
-- window can have changed; macros/incremental_scope.sql.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='story_entity_id',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_incremental_scope('story_id', 'scope_mention_stories', 'last_run_date') }}"
    )
}}

-- depends_on: {{ ref('stg_landing__articles') }}
-- depends_on: {{ ref('stg_landing__article_stories') }}
-- depends_on: {{ ref('stg_landing__article_entities') }}
-- depends_on: {{ ref('stg_landing__entity_mentions') }}
-- depends_on: {{ ref('stg_landing__story_merges') }}
-- depends_on: {{ ref('int_story_merges_resolved') }}
-- depends_on: {{ ref('int_articles_clustered') }}

{%- set since = incremental_since('last_run_date') %}

with

{% if since is not none -%}
{{ incremental_scope_ctes(since) }}
{%- endif %}

mentions as (

    select * from {{ ref('fct_entity_mentions') }}

),

articles as (

    select * from {{ ref('fct_articles') }}
    {%- if since is not none %}
    where story_id in (select story_id from scope_mention_stories)
    {%- endif %}

),

story_mentions as (

    select
        articles.story_id,
        mentions.entity_id,
        count(distinct mentions.article_id) as article_count,
        cast(sum(mentions.mention_count) as bigint) as mention_count,
        max(mentions.run_date) as last_run_date

    from mentions
    inner join articles on mentions.article_id = articles.article_id
    group by articles.story_id, mentions.entity_id

),

final as (

    select
        story_id || ':' || entity_id as story_entity_id,
        story_id,
        entity_id,
        article_count,
        mention_count,
        mention_count / sum(mention_count) over (partition by story_id) as salience,
        last_run_date

    from story_mentions

)

select * from final
