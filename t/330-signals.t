# What a request needs, from the body scan: $llm_lang, $llm_images,
# $llm_tools, $llm_input_bytes, $llm_max_tokens, on bodies of every API's
# shape (OpenAI chat, completions and Responses, Anthropic messages), with
# escaped and raw CJK, parts, and keys in any order; then a task-routing
# map on them.

use Test::Nginx::Socket 'no_plan';

workers(2);
master_on();
no_shuffle();

our $loc = <<'_EOC_';
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Sig "lang=$llm_lang images=$llm_images tools=$llm_tools in=$llm_input_bytes max=$llm_max_tokens" always;
}
location /mock/a/v1/ { llm_mock; }
_EOC_

our $http = <<'_EOC_';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_route default a;
_EOC_

# [ endpoint, body before the input, input value, body after ], expected
our @cases;

sub case ($$$$$) {
    my ($ep, $pre, $input, $post, $want) = @_;
    push @cases, [ "POST /v1/$ep\n$pre$input$post",
                   $want =~ s/IN/length($input)/er ];
}

# OpenAI chat: the last user message's script
case 'chat/completions', '{"model":"m","messages":',
     '[{"role":"system","content":"You are helpful."},{"role":"user","content":"你好，请帮我写一首诗"}]',
     '}', 'lang=zh images= tools= in=IN max=';
case 'chat/completions', '{"model":"m","max_tokens":64,"messages":',
     '[{"role":"user","content":"\u4f60\u597d\uff0c\u8bf7\u5e2e\u6211\u5199\u4e00\u9996\u8bd7"}]',
     '}', 'lang=zh images= tools= in=IN max=64';
case 'chat/completions', '{"model":"m","messages":',
     '[{"role":"user","content":"今日はいい天気ですね。散歩に行きましょう"}]',
     '}', 'lang=ja images= tools= in=IN max=';
case 'chat/completions', '{"model":"m","messages":',
     '[{"role":"user","content":"안녕하세요, 오늘 날씨가 좋네요"}]',
     '}', 'lang=ko images= tools= in=IN max=';
case 'chat/completions', '{"model":"m","messages":',
     '[{"role":"user","content":"\u041f\u0440\u0438\u0432\u0435\u0442, \u043a\u0430\u043a \u0434\u0435\u043b\u0430?"}]',
     '}', 'lang=ru images= tools= in=IN max=';
case 'chat/completions', '{"model":"m","messages":',
     '[{"role":"user","content":"مرحبا، كيف حالك اليوم؟"}]',
     '}', 'lang=ar images= tools= in=IN max=';
# the last user message wins, whatever the assistant said after it
case 'chat/completions', '{"model":"m","max_completion_tokens":500,"max_tokens":9,"messages":',
     '[{"role":"user","content":"你好"},{"role":"assistant","content":"你好！"},{"role":"user","content":"Now explain it in English please"},{"role":"assistant","content":"好的"}]',
     '}', 'lang=latin images= tools= in=IN max=500';
# role after content; code in a Chinese question is still Chinese
case 'chat/completions', '{"messages":',
     '[{"content":"请解释这段代码: def add(a, b): return a + b","role":"user"}]',
     ',"model":"m"}', 'lang=zh images= tools= in=IN max=';
# escaped quotes and an emoji (surrogate pair) around Cyrillic
case 'chat/completions', '{"model":"m","messages":',
     '[{"role":"user","content":"\"\ud83d\ude00\" Скажи \"привет\" по-русски"}]',
     '}', 'lang=ru images= tools= in=IN max=';
# content parts: the first text part; an image part (OpenAI)
case 'chat/completions', '{"model":"m","messages":',
     '[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},{"type":"text","text":"这是什么？"},{"type":"text","text":"Answer in English"}]}]',
     '}', 'lang=zh images=1 tools= in=IN max=';
# tools (OpenAI), an empty tools array, legacy functions
case 'chat/completions', '{"model":"m","tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"kind":{"type":"string","enum":["image"]}}}}}],"messages":',
     '[{"role":"user","content":"call f"}]',
     '}', 'lang=latin images= tools=1 in=IN max=';
case 'chat/completions', '{"model":"m","tools":[ ],"tool_choice":"none","messages":',
     '[{"role":"user","content":"hi"}]',
     '}', 'lang=latin images= tools= in=IN max=';
case 'chat/completions', '{"model":"m","functions":[{"name":"f"}],"messages":',
     '[{"role":"user","content":"hi"}]',
     '}', 'lang=latin images= tools=1 in=IN max=';
# Anthropic: image block, tools, max_tokens; a user message of numbers only
case 'messages', '{"model":"m","max_tokens":1024,"tools":[{"name":"get_weather","input_schema":{"type":"object"}}],"messages":',
     '[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},{"type":"text","text":"Что на картинке?"}]}]',
     '}', 'lang=ru images=1 tools=1 in=IN max=1024';
case 'messages', '{"model":"m","max_tokens":1,"messages":',
     '[{"role":"user","content":"12345 + 67890 = ?"}]',
     '}', 'lang= images= tools= in=IN max=1';
# Responses API: a string input, input items with an input_image
case 'responses', '{"model":"m","max_output_tokens":77,"input":',
     '"Écris un poème sur la mer"',
     '}', 'lang=latin images= tools= in=IN max=77';
case 'responses', '{"model":"m","input":',
     '[{"type":"message","role":"user","content":[{"type":"input_text","text":"この画像は何ですか"},{"type":"input_image","image_url":"https://example.com/a.png"}]}]',
     '}', 'lang=ja images=1 tools= in=IN max=';
# legacy completions: the prompt
case 'completions', '{"model":"m","prompt":',
     '"def fibonacci(n):"',
     ',"max_tokens":16}', 'lang=latin images= tools= in=IN max=16';
# no input at all (embeddings take "input" too)
case 'embeddings', '{"model":"m","input":',
     '["你好","世界"]',
     '}', 'lang= images= tools= in=IN max=';
# messages as json.dumps() spaces them, with more spaces, escapes, a
# member after the content, and pretty-printed (the scanner's fast path
# and every way out of it)
case 'chat/completions', '{"model": "m", "messages": ',
     '[{"role": "user", "content": "\\u041f\\u0440\\u0438\\n"}, {"role":  "user", "content": "你好"}]',
     '}', 'lang=zh images= tools= in=IN max=';
case 'chat/completions', '{"model":"m","messages":',
     '[{"role":"user","content":"你好","name":"x"},{"role":"assistant","content":"Привет"},{ "role" : "system" , "content" : "hi" }]',
     '}', 'lang=zh images= tools= in=IN max=';
case 'chat/completions', '{"model":"m","messages":',
     "[\n  {\n    \"role\": \"user\",\n    \"content\": \"Привет\"\n  },\n  {}\n]",
     '}', 'lang=ru images= tools= in=IN max=';
# keys with escapes are not recognised as signals (but stay valid JSON)
case 'chat/completions', '{"model":"m","tool\u0073":[{"type":"function"}],"messages":',
     '[{"role":"user","content":"hi"}]',
     '}', 'lang=latin images= tools= in=IN max=';

run_tests();

__DATA__

=== TEST 1: the signals on bodies of every shape
--- http_config eval: $::http
--- config eval: $::loc
--- pipelined_requests eval
[ map { $_->[0] } @::cases ]
--- more_headers
Content-Type: application/json
--- error_code eval
[ (200) x @::cases ]
--- response_headers eval
[ map { "X-Sig: $_->[1]" } @::cases ]
--- no_error_log
[error]



=== TEST 2: routing by task: map on the signals picks the route
--- http_config
llm_upstream vision host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/vision/v1 key=k;
llm_upstream coder host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/coder/v1 key=k;
llm_upstream zh host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/zh/v1 key=k;
llm_upstream long host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/long/v1 key=k;
llm_upstream general host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/general/v1 key=k;

# vision, then tools, then long context (100 KB and more), then Chinese
map "$llm_images:$llm_tools:$llm_input_bytes:$llm_lang" $llm_task {
    ~^1:                    vision;
    ~^:1:                   coder;
    "~^::\d{6,}:"           long;
    ~^::\d+:zh$             chinese;
    default                 general;
}

llm_route_key $llm_task;
llm_route vision  vision:vl-model;
llm_route coder   coder:code-model;
llm_route chinese zh:zh-model;
llm_route long    long:long-model;
llm_route general general;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Route $llm_route always;
    add_header X-Provider $llm_provider always;
}
location /mock/ { llm_mock; }
--- pipelined_requests eval
[ "POST /v1/chat/completions\n" . '{"model":"any","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}',
  "POST /v1/chat/completions\n" . '{"model":"any","tools":[{"type":"function","function":{"name":"f"}}],"messages":[{"role":"user","content":"hi"}]}',
  "POST /v1/chat/completions\n" . '{"model":"any","messages":[{"role":"user","content":"\u4f60\u597d"}]}',
  "POST /v1/chat/completions\n" . '{"model":"any","messages":[{"role":"user","content":"' . ('word ' x 20000) . '"}]}',
  "POST /v1/chat/completions\n" . '{"model":"any","messages":[{"role":"user","content":"hi"}]}' ]
--- more_headers
Content-Type: application/json
--- error_code eval
[ (200) x 5 ]
--- response_headers eval
[ "X-Route: vision\nX-Provider: vision",
  "X-Route: coder\nX-Provider: coder",
  "X-Route: chinese\nX-Provider: zh",
  "X-Route: long\nX-Provider: long",
  "X-Route: general\nX-Provider: general" ]
--- no_error_log
[error]
