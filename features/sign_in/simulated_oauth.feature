@epic:Sign-in_and_sessions @feature:Simulated_OAuth
Feature: Simulated OAuth sign-in for automated checks
  Automated checks of a deployment sign in through a simulated OAuth provider guarded by a shared
  key. The key must be the only way in, and the permissions it grants must be the ones the platform
  enforces, so that a read-only reviewer cannot spend money by starting agents.

  @clause:AUTH-2.14
  @critical @story:Simulated_OAuth @needs-bypass-key
  Scenario: Simulated OAuth with the right key signs a new user in
    When Olivia signs in through simulated OAuth with the right key
    Then Olivia's account is marked as simulated and has the standard permissions
    And Olivia's session works for the API and the chat

  @clause:DET-7.10
  @normal @story:Simulated_OAuth @needs-bypass-key
  Scenario: Simulated OAuth for an email that already has an account signs in to that account
    Given Alice has signed up
    When Alice signs in through simulated OAuth with the right key
    Then Alice is signed in to the account she signed up with

  @clause:AUTH-2.15 @clause:DET-7.10
  @critical @story:Simulated_OAuth @needs-bypass-key
  Scenario Outline: Simulated OAuth with <key> is refused
    When someone tries simulated OAuth as Mallory with <key>
    Then the simulated sign-in is refused as unauthorised

    Examples:
      | key           |
      | a wrong key   |
      | no key at all |

  @clause:WS-4.18 @clause:DET-7.14
  @critical @story:Permissions @needs-bypass-key
  Scenario: A user who may only read and chat cannot start the agents, and the chat stays open
    Given Rita has signed in through simulated OAuth with only the permissions read and chat
    And Rita has opened the chat with the authorization header
    When Rita tries to ask "How can my team spend less on AI?"
    Then Rita is told she is not allowed to start agents
    And Rita's chat is still open
