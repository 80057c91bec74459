"""A real S3-compatible server for tests: moto's standalone server, a separate process on a loopback port.
The store talks to it over HTTP exactly as to MinIO or S3; tests reach past the store with boto3."""

import os
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

# moto accepts any keys; set here so that neither the store nor boto3 looks for real ones.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass(frozen=True)
class S3Server:
    endpoint: str

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id="testing",
                            aws_secret_access_key="testing", region_name="us-east-1")

    def new_bucket(self) -> str:
        name = f"distillery-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> dict[str, bytes]:
        """Every object's key and bytes."""
        client = self.client()
        found = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                found[obj["Key"]] = client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
        return found

    def env(self, bucket: str, prefix: str = "") -> dict[str, str]:
        """Settings that put a Distillery process's artifact store in ``bucket``."""
        return {"DISTILLERY_ARTIFACT_URL": f"s3://{bucket}/{prefix}".rstrip("/"),
                "DISTILLERY_S3_ENDPOINT_URL": self.endpoint, "DISTILLERY_S3_REGION": "us-east-1",
                "DISTILLERY_S3_ACCESS_KEY_ID": "testing", "DISTILLERY_S3_SECRET_ACCESS_KEY": "testing"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def moto_server(log_path=os.devnull):
    port = _free_port()
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **CREDENTIALS},
                                start_new_session=True)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError("the moto server exited at start")
            try:
                httpx.get(endpoint, timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the moto server did not answer in 60 s") from None
                time.sleep(0.2)
        yield S3Server(endpoint)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
