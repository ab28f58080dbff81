@epic:Realtime_updates @feature:Reconnection
Feature: Following a run across devices and dropped connections
  People switch between laptop and phone and lose their connection on the move; the analysis they
  are waiting for must show up everywhere they look, and continue exactly where it stopped.

  @clause:WS-4.14 @clause:DET-7.3
  @critical @story:Resume_after_drop
  Scenario: A dropped connection resumes the run with no update lost or repeated
    Given Alice has signed up
    And Alice's team has a long usage history of 4,000 records
    And Alice has the chat open on her laptop and her phone
    When Alice starts asking "Analyse our whole AI usage history" on her phone
    And Alice's phone loses its connection while the data analysis is under way
    And Alice's phone reconnects and resumes the run from the last update it received
    Then the updates Alice's phone received before and after the drop are exactly those her laptop received, with none lost or repeated
    And replaying the whole run later gives Alice exactly the updates her laptop received

  @clause:WS-4.23 @clause:DET-7.3
  @normal @story:Several_devices
  Scenario: A user with the chat open on two devices sees the same run on both
    Given Alice has signed up
    And Alice has the chat open on her laptop and her phone
    When Alice asks "How can my team spend less on AI?" on her laptop
    Then Alice's phone shows the same updates as her laptop, in the same order
