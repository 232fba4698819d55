from fastcors import check_config

problems = check_config(allow_origins=["https://app.example.com/"], allow_credentials=True)
assert [problem.code for problem in problems] == ["origin-trailing-slash"]
print(problems[0].message)
