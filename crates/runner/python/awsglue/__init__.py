"""Weir's local stand-in for the parts of AWS Glue's ``awsglue`` package that
Python shell jobs and blueprints use."""
