"""Allure reporting of the acceptance suite: allure-behave's listener (:mod:`.listener`) wired into the
behave hooks (:mod:`.behave_hooks`), per-scenario evidence (:mod:`.evidence`, :mod:`.visuals`), the run's
summary (:mod:`.summary`) and the HTML report (:mod:`.html_report`)."""
