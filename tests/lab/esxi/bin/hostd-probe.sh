#!/bin/sh
# Lab stand-in for a VMware default cron job: does nothing, quietly.
exit 0
