"""Pushes that find people: the morning brief and event messages, sent by the scheduler to robot
webhooks (浙政钉) and e-mail, each event once per recipient (push/job.py, push/outbox.py)."""
