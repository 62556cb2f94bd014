"""Weir's implementation of AWS Glue's ``awsglue.blueprint`` library.

It behaves like the public library (awslabs/aws-glue-blueprint-libs): layout
generators build :class:`~awsglue.blueprint.workflow.Workflow` objects from
:class:`~awsglue.blueprint.job.Job` and :class:`~awsglue.blueprint.crawler.Crawler`
entities, and the service turns ``Workflow.to_json(name_suffix)`` into
CreateWorkflow, CreateJob, CreateCrawler and CreateTrigger requests.
"""
