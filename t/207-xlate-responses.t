


=== TEST 17: a mock that names its API refuses fields its endpoint does not take, with the provider's own 400
--- config
location /chat/ { llm_mock api=chat; }
location /openai/ { llm_mock api=openai; }
location /anthropic/ { llm_mock api=anthropic; }
--- request eval
['POST /chat/v1/chat/completions
{"model":"m","messages":[],"input":"x"}', 'POST /openai/v1/responses
{"model":"m","input":"x","messages":[]}', 'POST /anthropic/v1/messages
{"model":"m","max_tokens":1,"messages":[],"n":2}', 'POST /openai/v1/responses
{"model":"m","input":"x","text":{"format":{"type":"text"}},"tools":[{"type":"function","name":"f","parameters":{"a":[1,{"b":"}"}]}}],"store":false}']
--- error_code eval
[400, 400, 400, 200]
--- response_body eval
['{"error":{"message":"Unrecognized request argument supplied: input","type":"invalid_request_error","param":null,"code":null}}',
 q/{"error":{"message":"Unknown parameter: 'messages'.","type":"invalid_request_error","param":"messages","code":"unknown_parameter"}}/,
 '{"type":"error","error":{"type":"invalid_request_error","message":"n: Extra inputs are not permitted"}}',
 '{"id":"resp_mock","object":"response","created_at":1700000000,"model":"m","status":"completed","output":[{"type":"message","id":"msg_mock","role":"assistant","content":[{"type":"output_text","text":"Hello from the mock provider"}]}],"usage":{"input_tokens":7,"output_tokens":5,"total_tokens":12}}']
