"""Rubric v2's decision engine: two lanes (knowledge, behaviour), one verdict.

Pure: no Django, no I/O. `conditions` is the condition language of the rubric file,
`rubric` parses and checks a v2 rubric, `engine` scores answers under it.
"""
