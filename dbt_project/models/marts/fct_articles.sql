-- incremental: the articles a night in the lookback window changed, and every article of
-- a story it touched (macros/incremental_scope.sql).
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='article_id',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_incremental_scope('article_id', 'scope_story_articles', 'last_run_date', live=ref('stg_landing__articles')) }}"
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
    where article_id in (select article_id from scope_story_articles)
    {%- endif %}

),

analysed as (

    select * from {{ ref('int_article_entities_latest') }}

),

ner_statuses as (

    select
        article_id,
        ner_status

    from analysed

),

final as (

    select
        articles.article_id,
        source_id,
        story_id,
        is_story_origin,
        duplicate_of_article_id,
        duplicate_score,
        derived_from_article_id,
        derivation_score,
        story_similarity,
        url,
        canonical_url,
        title,
        published_at,
        published_utc_offset,
        published_local_date,
        language,
        word_count,
        body,
        authors,
        description,
        site_name,
        content_hash,
        first_seen_at,
        last_seen_at,
        listed_at,
        modified_at,
        dateline,
        credits,
        dateline_agency,
        extraction_path,
        language_confidence,
        too_short,
        probably_not_article,
        paywalled,
        coalesce(ner_statuses.ner_status, 'not_analysed') as ner_status,
        run_date as last_run_date

    from articles
    left join ner_statuses on articles.article_id = ner_statuses.article_id

)

select * from final
