"""Allure reporting of the acceptance suite: allure-behave's listener, per-scenario evidence, summary, HTML report."""
