"""fastcors against each generation of Starlette's CORSMiddleware: one virtualenv per release
(envs), the checks every run in them makes (env_checks), and recorded cases (cases)."""
