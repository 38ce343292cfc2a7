{#-
    Incremental marts (and int_entity_mentions_resolved, which fct_entity_mentions reads
    with the same scope) rebuild only what a night can have changed: the rows of the landing
    partitions inside the lookback window, and every row those partitions reach through
    the story and entity logic (a merge re-assigns old articles' stories, an article moving
    story changes both stories' origins and sizes, a new tie of an abbreviation re-resolves
    every article naming it). The window starts `lookback_days` (a var) before the newest
    night the mart already holds, so nights the mart never saw (a failed dbt night, a run
    after a pause) are always inside it, or before the night being built (var `run_date`,
    which the DAG passes) when that is older: a backfilled night.

    A model uses them as
        pre_hook: delete_incremental_scope(key, scope_cte, watermark_column)
        model:    {% set since = incremental_since(watermark_column) %}
                  with {{ incremental_scope_ctes(since) }} ... where key in (select ... scope_cte)
    The pre-hook deletes the scope's rows inside the model's transaction (so rows whose key
    no longer exists, a story merged away, a mention dropped by a re-analysis, go), then
    the delete+insert strategy inserts the scope's rows as they are now.
-#}

{% macro incremental_since(watermark_column) %}
    {#- The first run date this incremental run rebuilds, as a SQL date literal; none when
        the whole history is rebuilt (first build, --full-refresh, a mart that predates
        its watermark column, or a watermark column appended and still NULL). Read with run_query at render time,
        before the pre-hook deletes anything, so the model and its pre-hook agree. -#}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {#- a mart built before it had the watermark column (the column is appended by
        on_schema_change after this runs): rebuild its whole history once -#}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {%- if watermark_column | lower not in columns -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set lookback = var('lookback_days') | int -%}
    {%- if lookback < 1 -%}
        {{ exceptions.raise_compiler_error("var lookback_days must be at least 1, got " ~ var('lookback_days')) }}
    {%- endif -%}
    {#- a backfilled night (var run_date) older than the window starts it earlier -#}
    {%- set run_date = var('run_date', none) -%}
    {%- set query -%}
        select cast(
            least(
                max({{ watermark_column }}),
                {% if run_date %}cast('{{ run_date }}' as date){% else %}null{% endif %}
            ) - to_days({{ lookback }}) as date
        ) as since
        from {{ this }}
    {%- endset -%}
    {%- set since = run_query(query).columns[0].values()[0] -%}
    {%- if since is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return("date '" ~ since ~ "'") }}
{% endmacro %}


{% macro in_window(column, since) -%}
    {%- if since is none -%} true {%- else -%} {{ column }} >= {{ since }} {%- endif -%}
{%- endmacro %}


{% macro incremental_scope_ctes(since) -%}
    {#- CTEs naming what the window can have changed (each ends with a comma):
        scope_changed_articles  articles landed, assigned to a story or analysed in it;
        scope_stories           every story id a change touches (an article's stories on
                                any night, merges in the window) and the id it lives on as now;
        scope_story_articles    the articles now in those stories (their origin, story id);
        scope_abbreviated       articles naming an abbreviation that a changed article
                                ties to an entity (who "AP" is can change);
        scope_mention_articles  articles whose resolved mentions can differ;
        scope_mention_stories   the stories those articles are in now. -#}
scope_changed_articles as (

    select article_id from {{ ref('stg_landing__articles') }}
    where {{ in_window('run_date', since) }}
    union
    select article_id from {{ ref('stg_landing__article_stories') }}
    where {{ in_window('run_date', since) }}
    union
    select article_id from {{ ref('stg_landing__article_entities') }}
    where {{ in_window('run_date', since) }}

),

scope_touched_stories as (

    select assignments.story_id
    from {{ ref('stg_landing__article_stories') }} as assignments
    inner join scope_changed_articles
        on assignments.article_id = scope_changed_articles.article_id
    union
    -- the id of an article the story stage has not seen (int_articles_clustered)
    select 'st_' || left(sha256('story:' || article_id), 16) as story_id
    from scope_changed_articles
    union
    select merged_story_id as story_id from {{ ref('stg_landing__story_merges') }}
    where {{ in_window('run_date', since) }}
    union
    select into_story_id as story_id from {{ ref('stg_landing__story_merges') }}
    where {{ in_window('run_date', since) }}

),

scope_stories as (

    select story_id from scope_touched_stories
    union
    select resolved.final_story_id as story_id
    from scope_touched_stories
    inner join {{ ref('int_story_merges_resolved') }} as resolved
        on scope_touched_stories.story_id = resolved.merged_story_id

),

scope_story_articles as (

    select clustered.article_id
    from {{ ref('int_articles_clustered') }} as clustered
    inner join scope_stories on clustered.story_id = scope_stories.story_id
    union
    select article_id from scope_changed_articles

),

scope_changed_mentions as (

    -- a changed article's analyses, on any night (an old one may have held the tie)
    select
        mentions.name,
        mentions.surface_forms
    from {{ ref('stg_landing__entity_mentions') }} as mentions
    inner join scope_changed_articles
        on mentions.article_id = scope_changed_articles.article_id

),

scope_abbreviations as (

    -- every spelling those analyses tie to another name ("AP" for Associated Press)
    select distinct upper(replace(forms.form, '.', '')) as abbreviation
    from scope_changed_mentions,
        unnest(scope_changed_mentions.surface_forms) as forms (form)
    where
        upper(replace(scope_changed_mentions.name, '.', ''))
        != upper(replace(forms.form, '.', ''))

),

scope_abbreviated as (

    select mentions.article_id
    from {{ ref('stg_landing__entity_mentions') }} as mentions
    inner join scope_abbreviations
        on upper(replace(mentions.name, '.', '')) = scope_abbreviations.abbreviation

),

scope_mention_articles as (

    select article_id from scope_story_articles
    union
    select article_id from scope_abbreviated

),

scope_mention_stories as (

    select story_id from scope_stories
    union
    select clustered.story_id
    from {{ ref('int_articles_clustered') }} as clustered
    inner join scope_mention_articles
        on clustered.article_id = scope_mention_articles.article_id

),
{%- endmacro %}


{% macro delete_incremental_scope(key, scope_cte, watermark_column, scope_key=none, live=none) %}
    {#- Pre-hook of an incremental mart: delete the rows the model is about to rebuild
        (all of them when the whole history is rebuilt), and, given `live` (a relation
        holding every key that still exists), rows whose key is gone from it (an article
        a re-loaded night no longer has). A no-op on a first build or a full refresh,
        which replace the table. -#}
    {%- if execute and is_incremental() -%}
        {%- set since = incremental_since(watermark_column) -%}
        {#- contract columns the table lacks are added here, before the delete: DuckDB
            fails a commit that alters a table after deleting from it, which is what
            on_schema_change would do after this hook -#}
        {%- set existing = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
        {%- for name, column in model.columns.items() if name | lower not in existing %}
            alter table {{ this }} add column {{ name }} {{ column.data_type }};
        {%- endfor %}
        {% if since is none -%}
            delete from {{ this }}
        {%- elif scope_cte == 'window' -%}
            delete from {{ this }} where {{ key }} >= {{ since }}
        {%- else -%}
            delete from {{ this }}
            where {{ key }} in (
                with
                {{ incremental_scope_ctes(since) }}
                scope as (select {{ scope_key or key }} from {{ scope_cte }})
                select {{ scope_key or key }} from scope
            )
            {%- if live is not none %}
            or {{ key }} not in (select {{ key }} from {{ live }})
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
