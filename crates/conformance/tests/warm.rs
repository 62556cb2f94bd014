use aws_sdk_glue as _; use aws_sigv4 as _; use aws_smithy_http_client as _; #[test] fn t(){}
