def test_whoami_answers_with_the_demo_key(sandbox):
    response = sandbox.api("GET", "/v1/whoami")
    assert response.status_code == 200, response.text
    assert response.json()["apiKeyId"] == "key_00000000-0000-4000-8000-000000000001"
