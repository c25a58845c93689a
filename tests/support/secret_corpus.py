"""Secret-scrubbing corpus: texts holding one credential each (with its format), and look-alikes holding none.

The values are made up, in each provider's documented shape; none is a live credential.
"""

from __future__ import annotations

A32 = "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6"
SECRETS: list[tuple[str, str]] = [
    ("aws_access_key", "my AWS key id is AKIAZ7Q4XK2M5N8P3R6T, use it"),
    ("aws_temporary_key", "session creds ASIAY4LQ7W2E9R5T1U3I for the job"),
    ("aws_secret_key", 'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Lk3mP2Q"'),
    ("openai_project_key", "OPENAI_API_KEY=sk-proj-" + A32 + "Qr7sT8uV9wX0yZ1a"),
    ("openai_legacy_key", "key sk-" + "Ab3dEf6hIj9lMn2pQr5t" + "T3BlbkFJ" + "uV8xYz1bCd4fGh7jKl0n"),
    ("anthropic_key", "ANTHROPIC_API_KEY: sk-ant-api03-" + A32 + "xyzXYZ0123456789"),
    ("github_pat", "token ghp_" + "R4nD0mT0k3nV4lu3F0rT3st1ngAbCdEf1234"),
    ("github_oauth", "gho_" + "16C7e42F292c6912E7710c838347Ae178B4a" + " expires soon"),
    ("github_fine_grained", "github token ghs_" + "9f8E7d6C5b4A3z2Y1x0W9v8U7t6S5r4Q3p2O"),
    ("gitlab_pat", "GITLAB_TOKEN=glpat-xK9mP2qR7sT4vW8yZ1bC"),
    ("slack_bot", "SLACK_BOT_TOKEN xoxb-1234567890-0987654321-" + "AbCdEfGhIjKlMnOpQrStUvWx"),
    ("slack_webhook", "post to https://hooks.slack.com/services/" + "T0123ABCD/B0456EFGH/aBcDeFgHiJkLmNoPqRsTuVwX"),
    ("stripe_live", "stripe key sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("stripe_restricted", "rk_live_51H8xYzAbCdEfGhIjKlMnOpQr"),
    ("sendgrid", "SENDGRID SG.ngeVfQFYQlKU0ufo8x5d1A." + "TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr"),
    ("twilio_sid", "twilio account AC" + "0123456789abcdef0123456789abcdef"),
    ("twilio_api_key", "twilio key SK" + "fedcba9876543210fedcba9876543210"),
    ("mailchimp", "mailchimp 0123456789abcdef0123456789abcdef-us14"),
    ("telegram_bot", "bot token 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"),
    ("discord_bot", "discord MTA5ODc2NTQzMjEwOTg3NjU0.GaBcDe.abcdefghijklmnopqrstuvwxyz0"),
    ("jwt", "Authorization cookie eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
     + "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
    ("private_key_rsa", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAvX8r\n-----END RSA PRIVATE KEY-----"),
    ("private_key_openssh", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
     "-----END OPENSSH PRIVATE KEY-----"),
    ("pypi_token", "twine password pypi-AgEIcHlwaS5vcmc"
     + "CJDNmZjYzNmZi00ZDRmLTQ1ZjItYTc0ZC03ZWQ5ZTgxMmI2ZjIAAipbMSxbInByb2plY3QiXV0AAAYgAbC"),
    ("square_oauth", "square sq0csp-" + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"),
    ("azure_storage", "DefaultEndpointsProtocol=https;AccountName=x;AccountKey="
     + "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="),
    ("google_api_key", "maps key AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe"),
    ("huggingface", "HF_TOKEN hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz01234567"),
    ("url_password", "connect to postgresql://admin:S3cr3tPassw0rd@db.internal:5432/prod"),
    ("password_param", "login with user=bob&password=Tr0ub4dor3xyz please"),
    ("bearer_token", "curl -H 'Authorization: Bearer abcDEF123456ghiJKL789mnoPQR'"),
    ("npm_token", "//registry.npmjs.org/:_authToken=npm_" + "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"),
]

LOOKALIKES: list[str] = [
    "commit 3f786850e387550fdab836ed7e6dc881de23001b fixed the bug",
    "request id 123e4567-e89b-12d3-a456-426614174000",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "the md5 is d41d8cd98f00b204e9800998ecf8427e",
    "run `pip install sk-learn` then import sklearn",
    "the password field must be at least 8 characters",
    "set OPENAI_API_KEY in your environment before starting",
    "Bearer tokens go in the Authorization header",
    "see https://github.com/Yelp/detect-secrets for details",
    "connect to postgresql://db.internal:5432/prod as the app user",
    "AKIA is the prefix of AWS access key ids",
    "the ghp_ prefix marks a GitHub personal token",
    "xoxb- tokens belong to Slack bots",
    "use sk_test_ keys in development, never in production",
    "image digest sha256:4bcff63911fcb4448bd4fdacec207030997caf25e9bea4045fa6c8c44de311d1",
    "base64 of hello world is aGVsbG8gd29ybGQ=",
    "the -----BEGIN CERTIFICATE----- block is public",
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 user@host is a public key",
    "version 1.2.3-alpha.4+build.5678",
    "order number 2024-11-03-000123456 shipped",
    "phone +1 (555) 010-9999, ext 42",
    "the path /usr/local/lib/python3.11/site-packages is on sys.path",
    "file name report_2024_Q3_final_v2.xlsx",
    "token count was 12345 for the prompt",
    "page https://example.com/search?q=password+reset&lang=en",
    "CamelCaseIdentifiersLikeThisOneAreCommonInCode",
    "ISBN 978-3-16-148410-0",
    "color #1a2b3c and #ffeedd",
    "the secret to good bread is time",
    "API_KEY=<your key here>",
    "Paris is 18C and cloudy, tool call_w returned",
    "eyes on the prize: eyJ is how base64 JSON starts",
]
